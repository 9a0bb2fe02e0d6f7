"""Uploaded images: validation by content, resize, thumbnails, EXIF stripped, storage."""
