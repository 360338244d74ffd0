//! `cargo fuzz run -s none engine`: see `iamsim_core::testing::fuzz::engine` for what it checks.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let violations = iamsim_core::testing::fuzz::engine(data);
    assert!(violations.is_empty(), "{violations:#?}");
});
