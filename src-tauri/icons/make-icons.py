#!/usr/bin/env python3
"""Draws Passdesk's app and tray icons (a green rounded tile with a white tick) as RGBA PNGs.

Run from anywhere: `python3 src-tauri/icons/make-icons.py`. Standard library only (zlib), so
the icons are reproducible and need no image tool.
"""
import math
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def png(path, size, pixel):
    rows = b"".join(
        b"\x00" + b"".join(bytes(pixel(x + 0.5, y + 0.5, size)) for x in range(size)) for y in range(size)
    )

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    head = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", head) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


def seg_dist(px, py, ax, ay, bx, by):
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


def tile(green):
    def pixel(x, y, size):
        u, v = x / size, y / size
        r = 0.2  # corner radius, as a fraction of the side
        cx, cy = min(max(u, r), 1 - r), min(max(v, r), 1 - r)
        outside = math.hypot(u - cx, v - cy) - r
        alpha = max(0.0, min(1.0, 0.5 - outside * size))
        if alpha == 0:
            return (0, 0, 0, 0)
        d = min(seg_dist(u, v, 0.25, 0.52, 0.43, 0.70), seg_dist(u, v, 0.43, 0.70, 0.76, 0.32))
        tick = max(0.0, min(1.0, (0.075 - d) * size + 0.5))
        base = green
        col = tuple(round(base[i] * (1 - tick) + 255 * tick) for i in range(3))
        return col + (round(alpha * 255),)

    return pixel


if __name__ == "__main__":
    online = (22, 128, 61)
    for size, name in [(32, "32x32.png"), (128, "128x128.png"), (256, "128x128@2x.png"), (512, "icon.png")]:
        png(os.path.join(HERE, name), size, tile(online))
    # Tray: green while the service answers, red when it does not.
    png(os.path.join(HERE, "tray-online.png"), 64, tile(online))
    png(os.path.join(HERE, "tray-offline.png"), 64, tile((185, 28, 28)))
