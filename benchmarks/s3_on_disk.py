#!/usr/bin/env python3
"""A local S3 server (moto) whose objects live in files, for a Tansu broker whose topics outgrow RAM.

moto keeps each object in a spooled temporary file: in memory below a size, past it an open file
descriptor per object. 100,000 LSSTCam-sized alerts are 32 GB and tens of thousands of objects, more
than RAM and more than the process may hold open. Here each object is a named file opened only while
it is read or written.

Usage: s3_on_disk.py FOLDER PORT
"""
import os, sys, tempfile, types


class FileBuffer:
    """What moto asks of its buffer (seek, tell, read, write, truncate, close), on a named file."""

    folder = None

    def __init__(self, *args, **kwargs):
        fd, self.path = tempfile.mkstemp(dir=FileBuffer.folder)
        os.close(fd)
        self.pos = 0

    def seek(self, pos, whence=0):
        self.pos = pos if whence == 0 else self.pos + pos if whence == 1 else os.path.getsize(self.path) + pos
        return self.pos

    def tell(self):
        return self.pos

    def read(self, n=-1):
        with open(self.path, "rb") as f:
            f.seek(self.pos)
            data = f.read() if n is None or n < 0 else f.read(n)
        self.pos += len(data)
        return data

    def write(self, data):
        with open(self.path, "r+b") as f:
            f.seek(self.pos)
            f.write(data)
        self.pos += len(data)
        return len(data)

    def truncate(self, size=None):
        os.truncate(self.path, self.pos if size is None else size)

    def flush(self):
        pass

    def close(self):
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


if __name__ == "__main__":
    folder, port = sys.argv[1], sys.argv[2]
    os.makedirs(folder, exist_ok=True)
    FileBuffer.folder = folder
    import moto.s3.models as models
    shim = types.ModuleType("tempfile_on_disk")
    shim.__dict__.update(tempfile.__dict__)
    shim.SpooledTemporaryFile = FileBuffer
    models.tempfile = shim
    from moto.server import main
    main(["-H", "127.0.0.1", "-p", port])
