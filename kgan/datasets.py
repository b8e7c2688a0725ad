"""The former home of kgan's TFDS builders, now `kgan.data.builders`.

Kept so that `import kgan.datasets` (which registers `digits` with TFDS) and its names still work.
"""

from kgan.data.builders import Digits, FolderScan, ImageFolder, scan_folder

__all__ = ["Digits", "FolderScan", "ImageFolder", "scan_folder"]
