#ifndef CPREFETCH_H
#define CPREFETCH_H

/// Asks the processor to bring the cache line holding `address` closer, for a write soon. A hint only:
/// it never faults, whatever the address, and changes no result. The merge stage calls it a few calls
/// ahead of its hash-table probes, whose tables outgrow the caches (Swift has no such intrinsic).
static inline void cprefetch_write(const void *address) {
#if defined(__GNUC__) || defined(__clang__)
    __builtin_prefetch(address, 1, 3);
#else
    (void)address;
#endif
}

#endif
