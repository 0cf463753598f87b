//! An evidence bundle's bytes from anyone: verifying it gives a verdict, never a panic. Producer and auditor are
//! the key the seed bundles were sealed and exported with.
#![no_main]
use auditlens::bundle::verify::{VerifyOptions, verify_bundle};
use auditlens_fuzz::{input_file, trusted_key};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let path = input_file("bundle.zip", bytes);
    let keys = std::slice::from_ref(trusted_key());
    let opts = VerifyOptions {
        trusted_producers: keys,
        trusted_auditors: keys,
        producer_policy: None,
        aws_keys: None,
    };
    let _ = verify_bundle(&path, &opts);
});
