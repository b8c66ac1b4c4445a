"""The case file's daily work: its parts, the atomic writes that change them, and the status machine."""
