#pragma once
// Adds and removes module-level imports in the file's own style. Transforms state what they
// need; the editor decides where it goes and emits the edits once.
#include <set>
#include <string>
#include <vector>

#include <tree_sitter/api.h>

#include "awaitify/edit.hpp"
#include "awaitify/source.hpp"

namespace awaitify {

class ImportEditor {
 public:
  // first_party: top-level package names of the project (their imports form the last group).
  ImportEditor(const SourceFile& source, TSNode root, std::set<std::string> first_party = {});

  // `from module import name`, once: nothing when the file already has it; merged into an
  // existing `from module import ...` (in sorted position when that list is sorted); otherwise
  // a new statement in its group (future, stdlib, third party, local): in sorted position when
  // the group is sorted (isort's order: plain imports, then from-imports), else after its last
  // import.
  void require_from(const std::string& module, const std::string& name);
  // `import module`, once.
  void require_module(const std::string& module);
  // Drops the binding of a local name from its import when nothing else in the file uses it.
  void drop_if_unused(const std::string& name);
  // A byte range the same pass rewrites: uses of a name inside it no longer count.
  void ignore_uses_in(uint32_t start, uint32_t end) { ignored_.emplace_back(start, end); }

  std::vector<Edit> edits() const;

 private:
  struct ImportedName {
    std::string name;   // as written: the dotted name imported
    std::string local;  // the name it binds
    TSNode node;
  };
  struct Statement {
    TSNode node;
    bool is_from = false;
    std::string module;  // for `from` imports
    std::vector<ImportedName> names;
    int group = 0;
  };

  int group_of(const std::string& module) const;
  const Statement* from_statement(const std::string& module) const;
  std::vector<Edit> merge_into(const Statement& statement, std::vector<std::string> names) const;
  // What the other edits of the same run do around a new statement.
  struct Placement {
    std::set<const Statement*> gone;  // removed whole: no neighbour to keep a place beside
    std::set<int> new_groups;         // groups that get a new statement
  };
  std::vector<Edit> insert_statement(int group, const std::string& text,
                                     const Placement& placement) const;
  const Statement* sorted_neighbour(int group, bool is_from, const std::string& module) const;
  // Edits removing the names marked in `dropped` (the whole statement when all are).
  std::vector<Edit> removal(const Statement& statement, const std::vector<bool>& dropped) const;
  bool used_elsewhere(const std::string& local) const;
  uint32_t line_end(uint32_t byte) const;  // offset just past the newline of byte's line
  // Inserts `text` at the start of the line after byte's. When byte's line is the file's last
  // and has no newline, the insertion starts with one: else it would join that line.
  Edit insert_after_line(uint32_t byte, const std::string& text) const;

  const SourceFile& source_;
  TSNode root_;
  std::set<std::string> first_party_;
  std::vector<Statement> statements_;
  std::vector<std::pair<std::string, std::string>> wanted_from_;  // module, name (in order)
  std::vector<std::string> wanted_modules_;
  std::vector<std::string> dropped_;
  std::vector<std::pair<uint32_t, uint32_t>> ignored_;
};

}  // namespace awaitify
