//! The adapter's tests: crawls over real HTTP on loopback against the fake Vultr server
//! (`iamsim_vultr::fake`), through the library's public API. One test binary, modules inside.
//! The end-to-end tests of `iamsim vultr` (the binary) are in the root package's `tests/`.

mod consistency;
mod fidelity;
mod http;
mod json;
mod page;
mod roundtrip;
mod secrets;
mod sessions;
mod support;
