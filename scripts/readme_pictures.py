"""Make the README's pictures from the suite's screenshots.

    make test ARGS="tests/test_browser_screenshots.py"   # writes .data/screenshots/
    .venv/bin/python scripts/readme_pictures.py           # writes docs/pictures/

Each chosen screenshot is cut to the first screen of its device (what a person sees before
scrolling) and reduced to a palette of 64 colours, which keeps the flat colours of the
portal's pages exact and each picture a few tens of kilobytes (Pillow, which reportlab
already brings)."""

import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / ".data" / "screenshots"
PICTURES = ROOT / "docs" / "pictures"
# screenshot -> height kept (the device's screen)
CHOSEN = {
    "phone-home.png": 844,
    "phone-office.png": 844,
    "phone-booking.png": 844,
    "phone-tracking.png": 844,
    "desktop-dashboard.png": 800,
}
COLOURS = 64
LIMIT = 100 * 1024


def main() -> int:
    PICTURES.mkdir(parents=True, exist_ok=True)
    for name, height in CHOSEN.items():
        source = SCREENSHOTS / name
        if not source.exists():
            print(f"{source} is missing: run tests/test_browser_screenshots.py first")
            return 1
        with Image.open(source) as image:
            screen = image.convert("RGB").crop((0, 0, image.width, min(height, image.height)))
        small = screen.quantize(colors=COLOURS, method=Image.Quantize.MEDIANCUT)
        target = PICTURES / name
        small.save(target, optimize=True)
        size = target.stat().st_size
        print(f"{target.relative_to(ROOT)}: {size / 1024:.0f} KB")
        if size > LIMIT:
            print(f"{target} is over {LIMIT // 1024} KB")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
