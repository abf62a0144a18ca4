#pragma once
// A small JSON reader for tests: enough to check that reports are valid JSON and to walk them.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace awaitify::testing_util {

struct Json {
  enum class Kind { null, boolean, number, string, array, object };
  Kind kind = Kind::null;
  bool boolean = false;
  double number = 0;
  std::string string;
  std::vector<Json> items;
  std::map<std::string, Json> fields;

  bool has(const std::string& key) const { return kind == Kind::object && fields.count(key); }
  const Json& operator[](const std::string& key) const {
    static const Json none;
    auto it = fields.find(key);
    return it == fields.end() ? none : it->second;
  }
  const Json& operator[](size_t index) const {
    static const Json none;
    return index < items.size() ? items[index] : none;
  }
};

class JsonReader {
 public:
  // The parsed value, or nullopt (with *error set) when text is not exactly one JSON value.
  static std::optional<Json> parse(const std::string& text, std::string* error) {
    JsonReader reader(text);
    Json value;
    if (!reader.value(value) || (reader.skip(), reader.pos_ != text.size())) {
      if (error) *error = "invalid JSON at byte " + std::to_string(reader.pos_);
      return std::nullopt;
    }
    return value;
  }

 private:
  explicit JsonReader(const std::string& text) : text_(text) {}
  void skip() {
    while (pos_ < text_.size() && std::string(" \t\r\n").find(text_[pos_]) != std::string::npos)
      ++pos_;
  }
  bool literal(const char* word) {
    std::string w(word);
    if (text_.compare(pos_, w.size(), w) != 0) return false;
    pos_ += w.size();
    return true;
  }
  bool string(std::string& out) {
    if (text_[pos_] != '"') return false;
    ++pos_;
    while (pos_ < text_.size() && text_[pos_] != '"') {
      char c = text_[pos_++];
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= text_.size()) return false;
      char e = text_[pos_++];
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'n':
          out += '\n';
          break;
        case 't':
          out += '\t';
          break;
        case 'r':
          out += '\r';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'u':
          if (pos_ + 4 > text_.size()) return false;
          out += static_cast<char>(
              std::stoi(text_.substr(pos_, 4), nullptr, 16));  // ASCII is enough here
          pos_ += 4;
          break;
        default:
          return false;
      }
    }
    if (pos_ >= text_.size()) return false;
    ++pos_;
    return true;
  }
  bool value(Json& out) {
    skip();
    if (pos_ >= text_.size()) return false;
    char c = text_[pos_];
    if (c == '{') {
      out.kind = Json::Kind::object;
      ++pos_;
      skip();
      if (pos_ < text_.size() && text_[pos_] == '}') return ++pos_, true;
      for (;;) {
        skip();
        std::string key;
        if (pos_ >= text_.size() || !string(key)) return false;
        skip();
        if (pos_ >= text_.size() || text_[pos_++] != ':') return false;
        if (!value(out.fields[key])) return false;
        skip();
        if (pos_ >= text_.size()) return false;
        if (text_[pos_] == '}') return ++pos_, true;
        if (text_[pos_++] != ',') return false;
      }
    }
    if (c == '[') {
      out.kind = Json::Kind::array;
      ++pos_;
      skip();
      if (pos_ < text_.size() && text_[pos_] == ']') return ++pos_, true;
      for (;;) {
        out.items.emplace_back();
        if (!value(out.items.back())) return false;
        skip();
        if (pos_ >= text_.size()) return false;
        if (text_[pos_] == ']') return ++pos_, true;
        if (text_[pos_++] != ',') return false;
      }
    }
    if (c == '"') {
      out.kind = Json::Kind::string;
      return string(out.string);
    }
    if (literal("true")) return out.kind = Json::Kind::boolean, out.boolean = true, true;
    if (literal("false")) return out.kind = Json::Kind::boolean, true;
    if (literal("null")) return true;
    size_t start = pos_;
    while (pos_ < text_.size() &&
           std::string("+-0123456789.eE").find(text_[pos_]) != std::string::npos)
      ++pos_;
    if (start == pos_) return false;
    out.kind = Json::Kind::number;
    out.number = std::stod(text_.substr(start, pos_ - start));
    return true;
  }

  const std::string& text_;
  size_t pos_ = 0;
};

}  // namespace awaitify::testing_util
