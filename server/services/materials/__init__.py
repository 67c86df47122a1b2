"""Application materials (申请材料): scans and PDFs attached to an application.

``kinds`` decides what a file is from its bytes, ``store`` keeps the bytes on disk under their
SHA-256, ``records`` keeps the metadata rows and answers who may see them.
"""
