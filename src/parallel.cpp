#include "awaitify/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

namespace awaitify {

void parallel_for(size_t count, unsigned jobs, const std::function<void(size_t)>& body) {
  unsigned workers = jobs ? jobs : std::max(1u, std::thread::hardware_concurrency());
  workers = static_cast<unsigned>(std::min<size_t>(workers, count));
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < count; i = next++) body(i);
  };
  if (workers <= 1) return work();
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < workers; ++i) threads.emplace_back(work);
  for (std::thread& thread : threads) thread.join();
}

}  // namespace awaitify
