//! How the process gives memory back: blocks of 8 MiB or more return to the system when they are freed.
//!
//! glibc's allocator maps a block of 128 KiB or more on its own, and unmaps it when it is freed; but each such
//! block freed raises that threshold to its size (up to 32 MiB). From then on, blocks of 16 MiB (the longest event)
//! come from the heap, and a freed one stays in the process, where the next one of another size may not fit. Peak
//! memory then counts blocks no longer in use. Measured with tests/it/memory.rs (120 events of 16 MiB): the import
//! peaked at 262 MB and the OCSF export at 263-297 MB with the moving threshold; 167-169 MB and 147-180 MB with it
//! fixed at 1 MiB or 8 MiB. Below 8 MiB, blocks come from the heap and are reused: at 1 MiB, every batch of the
//! OCSF export (a few MiB per column) was fresh pages, and the export of a million events took 15 s instead of 11-12 s
//! (docs/benchmarks.md, "Export").

/// The size from which a block is mapped on its own.
pub const OWN_MAPPING_BYTES: usize = 8 << 20;

/// Fixes the threshold (module documentation). The command line and the app call it first thing in `main`;
/// elsewhere than glibc it does nothing.
pub fn give_large_blocks_back() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[allow(unsafe_code)]
    // SAFETY: mallopt(3) only sets a parameter of glibc's allocator, which it reads under its own lock; it takes
    // no pointer, and 8 MiB is within the range glibc accepts for M_MMAP_THRESHOLD (at most 32 MiB on 64-bit).
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, OWN_MAPPING_BYTES as libc::c_int);
    }
}
