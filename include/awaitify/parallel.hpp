#pragma once
// Work spread over threads: the indexing, the seeds, the passes and the tests model's reads.
#include <cstddef>
#include <functional>

namespace awaitify {

// Calls body(i) for every i below count, on `jobs` threads (0: every core; never more threads
// than items), each taking the next index as it finishes one. Returns when all are done.
void parallel_for(size_t count, unsigned jobs, const std::function<void(size_t)>& body);

}  // namespace awaitify
