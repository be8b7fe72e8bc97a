//! Giving memory back to the system between rounds.
//!
//! A backfill's pages are freed as soon as they are written, but glibc's allocator keeps the freed
//! pages of its arenas mapped, so the resident size after a burst of work stays near its peak for the
//! hours the daemon then sleeps. `malloc_trim` returns the free pages at the top and inside every arena
//! to the kernel; measured with `fitbit-influx bench` (docs/performance.md). Other allocators (musl's)
//! give memory back on their own, so this is a no-op there.

/// Returns the allocator's free memory to the system; cheap (a few ms after a large round).
pub fn give_back() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the allocator's own free lists; it takes no pointers of ours
    // and is documented as safe to call from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Caps glibc's malloc arenas at two. By default glibc makes up to eight per core, one per thread that
/// contends, and each keeps its own high-water mark; the daemon's work is a handful of tasks on a small
/// runtime, so two arenas cost no measurable speed and keep the peak lower. Call before threads start.
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; M_ARENA_MAX with a positive value is valid.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}
