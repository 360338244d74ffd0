//! `cargo fuzz run -s none snapshot`: see `iamsim_core::testing::fuzz::snapshot` for what it checks.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let violations = iamsim_core::testing::fuzz::snapshot(data);
    assert!(violations.is_empty(), "{violations:#?}");
});
