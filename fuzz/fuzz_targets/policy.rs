//! `cargo fuzz run -s none policy`: see `iamsim_core::testing::fuzz::policy` for what it checks.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let violations = iamsim_core::testing::fuzz::policy(data);
    assert!(violations.is_empty(), "{violations:#?}");
});
