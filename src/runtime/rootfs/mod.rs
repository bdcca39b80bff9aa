//! Root filesystem sources: directory, tarball, host binaries, debootstrap;
//! cached under `<state>/cache/<sha256>`.
