#include "awaitify/edit.hpp"

#include <algorithm>

namespace awaitify {

namespace {

bool overlaps(const Edit& a, const Edit& b) {
  // Insertions never overlap each other; an insertion overlaps a replacement only strictly inside.
  if (a.start == a.end && b.start == b.end) return false;
  if (a.start == a.end) return a.start > b.start && a.start < b.end;
  if (b.start == b.end) return b.start > a.start && b.start < a.end;
  return a.start < b.end && b.start < a.end;
}

std::string describe(const Edit& edit) {
  return "[" + std::to_string(edit.start) + "," + std::to_string(edit.end) + ")";
}

}  // namespace

Status EditSet::add(Edit edit) {
  if (edit.end < edit.start) return Error{"internal error: edit " + describe(edit) + " is reversed"};
  for (const Edit& existing : edits_) {
    if (existing.start == edit.start && existing.end == edit.end && existing.text == edit.text) {
      return ok_status();
    }
    if (overlaps(existing, edit)) {
      return Error{"internal error: edit " + describe(edit) + " overlaps edit " +
                   describe(existing)};
    }
  }
  auto position = std::upper_bound(
      edits_.begin(), edits_.end(), edit, [](const Edit& a, const Edit& b) {
        if (a.start != b.start) return a.start < b.start;
        // An insertion goes before a replacement that starts at the same offset.
        return (a.start == a.end) && (b.start != b.end);
      });
  edits_.insert(position, std::move(edit));
  return ok_status();
}

Status EditSet::add_all(const std::vector<Edit>& edits) {
  for (const Edit& edit : edits) {
    Status status = add(edit);
    if (!status) return status;
  }
  return ok_status();
}

Result<std::string> EditSet::apply(std::string_view text) const {
  std::string out;
  out.reserve(text.size() + 64 * edits_.size());
  size_t cursor = 0;
  for (const Edit& edit : edits_) {
    if (edit.end > text.size()) {
      return Error{"internal error: edit " + describe(edit) + " is past the end of the file"};
    }
    out.append(text.substr(cursor, edit.start - cursor));
    out.append(edit.text);
    cursor = edit.end;
  }
  out.append(text.substr(cursor));
  return out;
}

}  // namespace awaitify
