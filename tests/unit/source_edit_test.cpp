#include <gtest/gtest.h>

#include "awaitify/edit.hpp"
#include "awaitify/source.hpp"

using namespace awaitify;

TEST(SourceFile, RejectsInvalidUtf8WithPosition) {
  auto source = SourceFile::from_bytes("bad.py", "x = 1\ny = '\xff'\n");
  ASSERT_FALSE(source.ok());
  EXPECT_EQ(source.error().message, "bad.py:2:6: not valid UTF-8 (byte offset 11)");
}

TEST(SourceFile, RejectsOverlongAndSurrogates) {
  EXPECT_FALSE(SourceFile::from_bytes("a.py", "\xC0\xAF").ok());
  EXPECT_FALSE(SourceFile::from_bytes("a.py", "\xED\xA0\x80").ok());
  EXPECT_FALSE(SourceFile::from_bytes("a.py", "\xE2\x82").ok());
  EXPECT_TRUE(SourceFile::from_bytes("a.py", "s = 'caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80'\n").ok());
}

TEST(SourceFile, StripsAndRestoresBom) {
  auto source = SourceFile::from_bytes("a.py", "\xEF\xBB\xBFx = 1\n");
  ASSERT_TRUE(source.ok());
  EXPECT_TRUE(source->has_bom());
  EXPECT_EQ(source->text(), "x = 1\n");
  EXPECT_EQ(source->bytes(), "\xEF\xBB\xBFx = 1\n");
}

TEST(SourceFile, DetectsDominantNewline) {
  EXPECT_EQ(SourceFile("a.py", "a\r\nb\r\nc\n").newline(), "\r\n");
  EXPECT_EQ(SourceFile("a.py", "a\nb\n").newline(), "\n");
}

TEST(SourceFile, MapsBytesToLinesAndColumns) {
  SourceFile source("a.py", "ab\ncd\n\nef");
  EXPECT_EQ(source.position(0).line, 1u);
  EXPECT_EQ(source.position(4).line, 2u);
  EXPECT_EQ(source.position(4).column, 2u);
  EXPECT_EQ(source.position(7).line, 4u);
  EXPECT_EQ(source.line_start(3), 6u);
  EXPECT_EQ(source.line_count(), 4u);
}

TEST(SourceFile, IndentOfLine) {
  SourceFile source("a.py", "def f():\n    \treturn 1\n");
  EXPECT_EQ(source.indent_at(16), "    \t");
}

TEST(EditSet, AppliesInOffsetOrder) {
  EditSet edits;
  ASSERT_TRUE(edits.add(Edit::replace(4, 5, "B")).ok());
  ASSERT_TRUE(edits.add(Edit::insert(0, "<")).ok());
  ASSERT_TRUE(edits.add(Edit::insert(9, ">")).ok());
  EXPECT_EQ(*edits.apply("abcdefghi"), "<abcdBfghi>");
}

TEST(EditSet, RejectsOverlapsWithBothRanges) {
  EditSet edits;
  ASSERT_TRUE(edits.add(Edit::replace(2, 6, "x")).ok());
  auto overlap = edits.add(Edit::replace(5, 8, "y"));
  ASSERT_FALSE(overlap.ok());
  EXPECT_EQ(overlap.error().message, "internal error: edit [5,8) overlaps edit [2,6)");
  EXPECT_FALSE(edits.add(Edit::insert(4, "z")).ok());
}

TEST(EditSet, InsertionsAtOneOffsetKeepTheirOrderAndPrecedeAReplacement) {
  EditSet edits;
  ASSERT_TRUE(edits.add(Edit::replace(1, 2, "R")).ok());
  ASSERT_TRUE(edits.add(Edit::insert(1, "(")).ok());
  ASSERT_TRUE(edits.add(Edit::insert(1, "await ")).ok());
  ASSERT_TRUE(edits.add(Edit::insert(2, ")")).ok());
  EXPECT_EQ(*edits.apply("abc"), "a(await R)c");
}

TEST(EditSet, IdenticalEditIsKeptOnce) {
  EditSet edits;
  ASSERT_TRUE(edits.add(Edit::insert(0, "async ")).ok());
  ASSERT_TRUE(edits.add(Edit::insert(0, "async ")).ok());
  EXPECT_EQ(edits.size(), 1u);
}

TEST(EditSet, RejectsEditsPastTheEnd) {
  EditSet edits;
  ASSERT_TRUE(edits.add(Edit::replace(2, 10, "")).ok());
  EXPECT_FALSE(edits.apply("abc").ok());
}
