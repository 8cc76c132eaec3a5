//! `passdesk bench qr [DIR]`: the QR cascade on the real-photo test set and on 1280x720
//! camera-sized frames, one core, no warm-up tricks.
//!
//! 1. Still images: every image of DIR through the full cascade; decode rate against the
//!    expected `N.txt` (compared without one trailing newline), median / p95 ms per image,
//!    which stage read each one, panics caught.
//! 2. 720p frames with a code in view: each test photo (shrunk to fit if larger) and generated
//!    codes (short ids and ~300-byte PD1 tokens, webcam-looking) on a 1280x720 canvas, each
//!    shown for a few consecutive frames to the frame decoder, as a camera would.
//! 3. 720p frames without a code: noise, text, 1D barcodes, blank, checkerboard.
//!
//! Frames are built before timing starts; only decoding is timed.

use crate::context::Context;
use crate::output::print_json;
use anyhow::{bail, Context as _};
use passdesk_hardware::qr::preprocess::{box_blur, downscale};
use passdesk_hardware::qr::stage::Effort;
use passdesk_hardware::qr::synth::{self, Rng};
use passdesk_hardware::qr::{Cascade, FrameDecoder, GrayFrame, ImageFiles, Stage};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Directory of images with expected texts beside them (`N.png` + `N.txt`), searched
    /// recursively [default: shared/testdata/qr beside the repository]
    pub dir: Option<PathBuf>,
    /// Consecutive frames each 720p scene with a code stays in view.
    #[arg(long, default_value_t = 10)]
    pub frames_per_scene: u32,
    /// Code-free 720p frames to time.
    #[arg(long, default_value_t = 300)]
    pub empty_frames: u32,
}

const WIDTH: u32 = 1280;
const HEIGHT: u32 = 720;

pub fn run(_ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let dir = resolve_dir(args.dir)?;
    let images: Vec<PathBuf> = ImageFiles::from_dir(&dir)?.collect();
    if images.is_empty() {
        bail!("no PNG or JPEG images under {}", dir.display());
    }
    let stills = bench_stills(&images)?;
    let with_code = bench_frames_with_code(&images, args.frames_per_scene.max(1))?;
    let without_code = bench_frames_without_code(args.empty_frames.max(1));
    let stage_costs = stage_costs_on_empty_frames();

    println!("QR cascade on {} ({} images)", dir.display(), images.len());
    println!(
        "  decoded exactly {} / {}   wrong {}   none {}   unreadable files {}   panics caught {}",
        stills.read, stills.total, stills.wrong, stills.none, stills.errors, stills.panics
    );
    println!(
        "  per image (CPU): median {:.3} ms, p95 {:.3} ms, max {:.3} ms",
        stills.ms.at(0.5),
        stills.ms.at(0.95),
        stills.ms.max()
    );
    println!("  read by stage: {:?}", stills.by_stage);
    println!(
        "720p frames with a code ({} scenes x {} frames): read {} within 1 frame, {} within {}; CPU p50 {:.3} ms, p95 {:.3} ms, max {:.3} ms (wall p95 {:.3} ms)",
        with_code.scenes,
        args.frames_per_scene.max(1),
        with_code.read_first,
        with_code.read_any,
        args.frames_per_scene.max(1),
        with_code.ms.at(0.5),
        with_code.ms.at(0.95),
        with_code.ms.max(),
        with_code.ms.wall_at(0.95),
    );
    println!(
        "  of which generated codes (2-5 px modules, some out of focus): {} / {} read",
        with_code.generated_read, with_code.generated
    );
    println!(
        "720p frames without a code ({}): false reads {}; CPU p50 {:.3} ms, p95 {:.3} ms, max {:.3} ms (wall p95 {:.3} ms); without uniform noise: CPU p95 {:.3} ms",
        without_code.frames,
        without_code.false_reads,
        without_code.ms.at(0.5),
        without_code.ms.at(0.95),
        without_code.ms.max(),
        without_code.ms.wall_at(0.95),
        without_code.realistic.at(0.95),
    );
    for (kind, ms) in &without_code.by_kind {
        println!(
            "  {kind:<14} p50 {:.3} ms, p95 {:.3} ms",
            ms.at(0.5),
            ms.at(0.95)
        );
    }
    println!("  each stage on its own, mean ms on a code-free 720p frame: {stage_costs:?}");
    print_json(&json!({
        "bench": "qr",
        "clock": "process CPU time (wallP95Ms: wall clock)",
        "dir": dir,
        "images": stills.total,
        "decoded": stills.read,
        "wrong": stills.wrong,
        "none": stills.none,
        "unreadable": stills.errors,
        "panicsCaught": stills.panics,
        "medianMsPerImage": stills.ms.at(0.5),
        "p95MsPerImage": stills.ms.at(0.95),
        "maxMsPerImage": stills.ms.max(),
        "byStage": stills.by_stage,
        "frames720pWithCode": {
            "scenes": with_code.scenes,
            "framesPerScene": args.frames_per_scene.max(1),
            "readFirstFrame": with_code.read_first,
            "readWithinScene": with_code.read_any,
            "generatedScenes": with_code.generated,
            "generatedRead": with_code.generated_read,
            "p50Ms": with_code.ms.at(0.5),
            "p95Ms": with_code.ms.at(0.95),
            "maxMs": with_code.ms.max(),
            "wallP95Ms": with_code.ms.wall_at(0.95),
        },
        "frames720pWithoutCode": {
            "frames": without_code.frames,
            "falseReads": without_code.false_reads,
            "p50Ms": without_code.ms.at(0.5),
            "p95Ms": without_code.ms.at(0.95),
            "maxMs": without_code.ms.max(),
            "wallP95Ms": without_code.ms.wall_at(0.95),
            "p95MsWithoutUniformNoise": without_code.realistic.at(0.95),
            "p95MsByKind": without_code.by_kind.iter().map(|(k, v)| (*k, v.at(0.95))).collect::<BTreeMap<_, _>>(),
        },
        "stageMeanMsOnEmpty720p": stage_costs,
    }))?;
    Ok(ExitCode::SUCCESS)
}

/// The argument, else `shared/testdata/qr` beside the repository this binary was built from,
/// else beside the current directory (a checkout run from its root).
fn resolve_dir(arg: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    if let Some(dir) = arg {
        if !dir.is_dir() {
            bail!("{} is not a directory", dir.display());
        }
        return Ok(dir);
    }
    let candidates = [
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/testdata/qr"),
        PathBuf::from("../shared/testdata/qr"),
    ];
    for c in &candidates {
        if c.is_dir() {
            return c
                .canonicalize()
                .with_context(|| format!("cannot resolve {}", c.display()));
        }
    }
    bail!(
        "no QR test set found at {} or {}: pass a directory",
        candidates[0].display(),
        candidates[1].display()
    )
}

/// Milliseconds of CPU time of this process (what "on one core" means, and what other
/// processes on a shared machine cannot inflate; process-wide so that the rqrr worker
/// thread's time counts, abandoned calls included), with wall-clock time beside it;
/// percentiles by the nearest-rank method.
#[derive(Default)]
struct Millis {
    cpu: Vec<f64>,
    wall: Vec<f64>,
}

/// CPU time used by this process (all threads), in milliseconds.
#[cfg(unix)]
fn cpu_ms() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec through a valid pointer; the clock id is a
    // constant every Linux and BSD supports.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return 0.0;
    }
    ts.tv_sec as f64 * 1000.0 + ts.tv_nsec as f64 / 1_000_000.0
}

#[cfg(not(unix))]
fn cpu_ms() -> f64 {
    0.0
}

impl Millis {
    fn time<T>(&mut self, f: impl FnOnce() -> T) -> T {
        let (cpu, wall) = (cpu_ms(), Instant::now());
        let out = f();
        self.push(cpu_ms() - cpu, wall.elapsed().as_secs_f64() * 1000.0);
        out
    }

    fn push(&mut self, cpu: f64, wall: f64) {
        self.cpu.push(cpu);
        self.wall.push(wall);
    }

    fn at(&self, q: f64) -> f64 {
        percentile(&self.cpu, q)
    }

    fn wall_at(&self, q: f64) -> f64 {
        percentile(&self.wall, q)
    }

    fn max(&self) -> f64 {
        round3(self.cpu.iter().copied().fold(0.0, f64::max))
    }

    fn mean(&self) -> f64 {
        if self.cpu.is_empty() {
            return 0.0;
        }
        round3(self.cpu.iter().sum::<f64>() / self.cpu.len() as f64)
    }
}

fn percentile(values: &[f64], q: f64) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return 0.0;
    }
    let idx = ((v.len() as f64 * q).ceil() as usize).clamp(1, v.len()) - 1;
    round3(v[idx])
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

fn trim_newline(s: &str) -> &str {
    s.strip_suffix('\n').unwrap_or(s)
}

fn expected_text(image: &Path) -> Option<String> {
    let raw = std::fs::read(image.with_extension("txt")).ok()?;
    Some(trim_newline(&String::from_utf8_lossy(&raw)).to_owned())
}

#[derive(Default)]
struct Stills {
    total: usize,
    read: usize,
    wrong: usize,
    none: usize,
    errors: usize,
    panics: usize,
    ms: Millis,
    by_stage: BTreeMap<&'static str, usize>,
}

fn bench_stills(images: &[PathBuf]) -> anyhow::Result<Stills> {
    let cascade = Cascade::default();
    let mut s = Stills::default();
    for path in images {
        s.total += 1;
        let frame = match GrayFrame::open(path) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("{e}");
                s.errors += 1;
                continue;
            }
        };
        let outcome = s.ms.time(|| cascade.decode(&frame));
        s.panics += outcome.panics.len();
        match (outcome.read, expected_text(path)) {
            (Some(r), Some(exp)) if trim_newline(&r.text) == exp => {
                s.read += 1;
                *s.by_stage.entry(r.stage.name()).or_default() += 1;
            }
            (Some(_), _) => s.wrong += 1,
            (None, _) => s.none += 1,
        }
    }
    Ok(s)
}

struct WithCode {
    scenes: usize,
    read_first: usize,
    read_any: usize,
    /// Of the scenes, those with a generated code (the rest hold test photos).
    generated: usize,
    generated_read: usize,
    ms: Millis,
}

/// Generated codes shown to the camera: short ids and signed-token-sized payloads, 2-5
/// pixels per module, every fourth one out of focus.
const GENERATED_SCENES: u32 = 48;

/// A 1280x720 canvas with `code` (shrunk to fit if needed) somewhere on a cluttered background.
fn scene(code: &GrayFrame, rng: &mut Rng) -> GrayFrame {
    let fx = code.width().div_ceil(WIDTH);
    let fy = code.height().div_ceil(HEIGHT);
    let code = downscale(code, fx.max(fy));
    let mut canvas = synth::text(WIDTH, HEIGHT, &["ORDER 1042", "NEXT PLEASE"], 2);
    let x = rng.below(WIDTH - code.width().min(WIDTH) + 1);
    let y = rng.below(HEIGHT - code.height().min(HEIGHT) + 1);
    synth::paste(&mut canvas, &code, x, y);
    canvas
}

fn bench_frames_with_code(images: &[PathBuf], per_scene: u32) -> anyhow::Result<WithCode> {
    let mut rng = Rng::new(2024);
    let mut scenes: Vec<(GrayFrame, Option<String>)> = Vec::new();
    for path in images {
        if let Ok(photo) = GrayFrame::open(path) {
            scenes.push((scene(&photo, &mut rng), expected_text(path)));
        }
    }
    let photos = scenes.len();
    for i in 0..GENERATED_SCENES {
        let text = if i % 2 == 0 {
            format!("BT-{:08}", i * 7919)
        } else {
            // About the size of a signed PD1 token: version 11-15 at error correction M.
            format!("PD1.{}.{}", "eyJwaWQiOiJ".repeat(18), "MEUCIQ".repeat(15))
        };
        let module_px = 2 + i % 4;
        let code = synth::render_qr(&text, module_px).context("render a QR code")?;
        let mut framed = synth::camera_look(&scene(&code, &mut rng), &mut rng);
        if i % 4 == 3 {
            framed = box_blur(&framed);
        }
        scenes.push((framed, Some(text)));
    }
    let mut decoder = FrameDecoder::default();
    let mut out = WithCode {
        scenes: scenes.len(),
        read_first: 0,
        read_any: 0,
        generated: scenes.len() - photos,
        generated_read: 0,
        ms: Millis::default(),
    };
    for (i, (frame, expected)) in scenes.iter().enumerate() {
        let mut read_at = None;
        for k in 0..per_scene {
            let outcome = out.ms.time(|| decoder.decode(frame));
            let ok = match (&outcome.read, expected) {
                (Some(r), Some(exp)) => trim_newline(&r.text) == exp,
                (Some(_), None) => true,
                (None, _) => false,
            };
            if ok && read_at.is_none() {
                read_at = Some(k);
            }
        }
        out.read_first += usize::from(read_at == Some(0));
        out.read_any += usize::from(read_at.is_some());
        out.generated_read += usize::from(i >= photos && read_at.is_some());
    }
    Ok(out)
}

struct WithoutCode {
    frames: u32,
    false_reads: u32,
    ms: Millis,
    /// Every kind but uniform noise, which no camera sees (sensor noise is a few grey levels,
    /// not the full range) and which is the worst case for finder-pattern searches.
    realistic: Millis,
    by_kind: BTreeMap<&'static str, Millis>,
}

const EMPTY_KINDS: [&str; 6] = [
    "noise",
    "text",
    "barcode_1d",
    "blank",
    "camera_text",
    "checkerboard",
];

fn empty_frame(i: u32) -> GrayFrame {
    let lines = [
        "TOTAL 12.50 EUR",
        "THANK YOU",
        "0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    ];
    let seed = u64::from(i);
    match i % 6 {
        0 => synth::noise(WIDTH, HEIGHT, seed),
        1 => synth::text(WIDTH, HEIGHT, &lines, 1 + i % 4),
        2 => synth::barcode_1d(WIDTH, HEIGHT, seed),
        3 => synth::blank(WIDTH, HEIGHT, (i * 37 % 256) as u8),
        4 => synth::camera_look(&synth::text(WIDTH, HEIGHT, &lines, 3), &mut Rng::new(seed)),
        _ => {
            let mut f = synth::blank(WIDTH, HEIGHT, 255);
            let cell = 4 + i % 12;
            for y in 0..HEIGHT {
                for x in 0..WIDTH {
                    if (x / cell + y / cell) % 2 == 0 {
                        f.set(x, y, 0);
                    }
                }
            }
            f
        }
    }
}

fn bench_frames_without_code(count: u32) -> WithoutCode {
    // Build a few dozen distinct frames and cycle through them, so generating them does not
    // dominate the run.
    let distinct: Vec<GrayFrame> = (0..count.clamp(6, 36)).map(empty_frame).collect();
    let mut decoder = FrameDecoder::default();
    let mut out = WithoutCode {
        frames: count,
        false_reads: 0,
        ms: Millis::default(),
        realistic: Millis::default(),
        by_kind: BTreeMap::new(),
    };
    for i in 0..count as usize {
        let j = i % distinct.len();
        let (cpu, started) = (cpu_ms(), Instant::now());
        let outcome = decoder.decode(&distinct[j]);
        let (cpu, wall) = (cpu_ms() - cpu, started.elapsed().as_secs_f64() * 1000.0);
        out.ms.push(cpu, wall);
        let kind = EMPTY_KINDS[j % EMPTY_KINDS.len()];
        if kind != "noise" {
            out.realistic.push(cpu, wall);
        }
        out.by_kind.entry(kind).or_default().push(cpu, wall);
        out.false_reads += u32::from(outcome.read.is_some());
    }
    out
}

/// Mean cost of each stage alone (quick effort, as on camera frames) on code-free 720p
/// frames: what spreading the fallbacks saves.
fn stage_costs_on_empty_frames() -> BTreeMap<&'static str, f64> {
    let frames: Vec<GrayFrame> = (0..6).map(empty_frame).collect();
    let mut costs = BTreeMap::new();
    for stage in Stage::ALL {
        let mut ms = Millis::default();
        for f in frames.iter().filter(|f| stage.applies_to(f)) {
            ms.time(|| stage.run(f, Effort::Quick));
        }
        if !ms.cpu.is_empty() {
            costs.insert(stage.name(), ms.mean());
        }
    }
    costs
}
