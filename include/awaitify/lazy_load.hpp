#pragma once
// AWV009: a relationship read, in async code, on an object loaded without eager loading. The
// lazy load it triggers needs I/O that async SQLAlchemy cannot do implicitly (MissingGreenlet).
#include <tree_sitter/api.h>

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "awaitify/index.hpp"

namespace awaitify {

// relationship() / Relationship() attributes of the project's model classes.
struct Relationships {
  // qualified class -> relationship name -> loaded eagerly by default (lazy="selectin", ...)
  std::map<std::string, std::map<std::string, bool>> classes;
  // qualified class -> relationship name -> its target as written (ModuleFacts's)
  std::map<std::string, std::map<std::string, std::string>> targets;
  // Adds the models of one parsed file.
  void collect(const ModuleFacts& facts, TSNode root, std::string_view src);
  void merge(const Relationships& other);
};

struct LazyRead {
  TSNode node;               // the attribute read (`user.items`)
  std::string variable;      // user
  std::string model;         // qualified class
  std::string relationship;  // items
};

// The lazy relationship reads in one async function body. resolve: what a dotted name means in
// the function (the call scanner's resolution).
std::vector<LazyRead> lazy_relationship_reads(
    TSNode body, std::string_view src, const ProjectIndex& index,
    const Relationships& relationships,
    const std::function<std::string(const std::string&)>& resolve);

}  // namespace awaitify
