// The allocator's free space, handed back. Load and reload time only; never on the
// query path.
#pragma once

namespace signpost::core {

// Merges the heap's freed blocks into larger free ones and returns whole free pages
// to the kernel (glibc's malloc_trim(0); nothing elsewhere). Blocks allocated next
// are then carved one after another out of the merged space instead of reusing
// scattered small holes. It walks the whole heap: call it once per load, not per zone.
void release_free_memory() noexcept;

}  // namespace signpost::core
