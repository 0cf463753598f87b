//! An archive's bytes from anyone: verifying it gives a report (verified, or a named failure), never a panic.
#![no_main]
use auditlens::verify::{NoSink, verify_archive};
use auditlens_fuzz::{input_file, trusted_key};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let path = input_file("archive.zip", bytes);
    let _ = verify_archive(&path, std::slice::from_ref(trusted_key()), &mut NoSink);
});
