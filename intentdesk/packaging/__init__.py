"""Making the files people download from a frozen app folder: the Linux artifacts (`artifact`, `deb`)
and the models a build carries (`models`). Runs at build time, and in a packaged app that makes an
app for others (it has no PyInstaller, but it has its own folder to pack)."""
