#pragma once
// Disjoint sets over 0..size-1, for grouping what must move together (the db phase's session
// groups, apply --interactive's change sets).
#include <algorithm>
#include <cstddef>
#include <numeric>
#include <vector>

namespace awaitify {

class UnionFind {
 public:
  explicit UnionFind(size_t size) : parent_(size) {
    std::iota(parent_.begin(), parent_.end(), size_t{0});
  }
  // The representative of x's set: its smallest member.
  size_t find(size_t x) {
    while (parent_[x] != x) x = parent_[x] = parent_[parent_[x]];
    return x;
  }
  void unite(size_t a, size_t b) {
    a = find(a);
    b = find(b);
    if (a != b) parent_[std::max(a, b)] = std::min(a, b);
  }

 private:
  std::vector<size_t> parent_;
};

}  // namespace awaitify
