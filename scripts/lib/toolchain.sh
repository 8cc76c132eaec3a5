# Sourced by the scripts: make sure cargo is on PATH (rustup installs it under ~/.cargo/bin).
if ! command -v cargo > /dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
  export PATH="$HOME/.cargo/bin:$PATH"
fi
if ! command -v cargo > /dev/null 2>&1; then
  echo "cargo is not installed: install Rust with rustup (https://rustup.rs) and run again" >&2
  exit 1
fi
