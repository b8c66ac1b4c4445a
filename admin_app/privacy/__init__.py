"""Data protection: field classes and who reads them, anonymisation, subject access, retention, sharing."""
