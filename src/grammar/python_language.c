/* The tree-sitter-python language as awaitify parses with it: the grammar's own tables and
 * scanner, with its external scanner's deserialize replaced.
 *
 * tree-sitter restores the scanner, before it lexes, from the state stored in the last external
 * token (newline, indent, string delimiters) before that point, or calls deserialize(NULL, 0)
 * where there is none: at the start of every parse, and where a re-parse lexes again before
 * the file's first such token. tree-sitter-python 0.23.6's deserialize then resets its
 * indentation and string-delimiter stacks but not its inside-f-string flag, which keeps
 * whatever the previous scan left: the previous parse's, for a parser used twice. Left set,
 * the flag holds back DEDENT tokens until the next string literal, so the statements after a
 * block are parsed into it, with no syntax error to show it ("x = f'{y" then a file of two
 * functions parses the second into the first). Here the empty state resets all three.
 *
 * The grammar's deserialize also frees both stacks and allocates them again, and it runs before
 * nearly every token: a fifth of a parse's calls to the allocator. Here the stacks keep their
 * memory from one token to the next, while that memory is still the thread's to use: the
 * allocator awaitify gives tree-sitter (src/tree_memory.cpp) takes a thread's blocks back
 * when the file's work ends, and says so by a new generation number; a scanner first restored
 * in an earlier generation is restored by the grammar's own deserialize, which allocates anew.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "tree_sitter/array.h"
#include "tree_sitter/parser.h"

const TSLanguage *tree_sitter_python(void);

/* A program without awaitify's allocator (the benchmark's raw parse) keeps its memory until it
 * frees it: one generation. */
__attribute__((weak)) uint64_t awaitify_tree_memory_generation(void) {
  return 0;
}

/* The scanner's state as scanner.c of tree-sitter-python 0.23.6 lays it out (it has no header).
 * make_language checks this copy against the grammar's own deserialize before relying on it. */
typedef struct {
  Array(uint16_t) indents;
  Array(char) delimiters; /* the grammar's Delimiter is a struct of one char */
  bool inside_f_string;
} ScannerState;

static TSLanguage language;
static void (*grammar_deserialize)(void *, const char *, unsigned);
static bool reuses_memory;
static pthread_once_t language_once = PTHREAD_ONCE_INIT;

/* The last scanner this thread restored, and in which generation of its memory. */
static _Thread_local void *restored_scanner;
static _Thread_local uint64_t restored_generation;

/* What the grammar's deserialize makes of a state, into stacks whose memory is kept: the flag,
 * the delimiters (a count, then one byte each), and the indents after the first (one byte each,
 * to the end); the first indent is always 0. */
static void restore_in_place(ScannerState *scanner, const char *buffer, unsigned length) {
  scanner->inside_f_string = false;
  scanner->delimiters.size = 0;
  unsigned indents = 1;
  if (length > 0) {
    scanner->inside_f_string = (bool)buffer[0];
    unsigned delimiter_count = (uint8_t)buffer[1];
    if (delimiter_count > 0) {
      array_reserve(&scanner->delimiters, delimiter_count);
      scanner->delimiters.size = delimiter_count;
      memcpy(scanner->delimiters.contents, &buffer[2], delimiter_count);
    }
    if (length > 2 + delimiter_count) indents += length - 2 - delimiter_count;
    buffer += 2 + delimiter_count;
  }
  array_reserve(&scanner->indents, indents);
  scanner->indents.contents[0] = 0;
  for (unsigned i = 1; i < indents; ++i)
    scanner->indents.contents[i] = (unsigned char)buffer[i - 1];
  scanner->indents.size = indents;
}

static void deserialize(void *payload, const char *buffer, unsigned length) {
  static const char empty_state[2] = {0, 0};
  uint64_t generation = awaitify_tree_memory_generation();
  if (reuses_memory && payload == restored_scanner && generation == restored_generation) {
    restore_in_place(payload, buffer, length);
    return;
  }
  if (length == 0) {
    grammar_deserialize(payload, empty_state, sizeof empty_state);
  } else {
    grammar_deserialize(payload, buffer, length);
  }
  restored_scanner = payload;
  restored_generation = generation;
}

/* Whether ScannerState is the grammar's layout: a state the grammar restores reads back field
 * for field, and one restored in place serializes back to itself. */
static bool layout_matches(void) {
  static const char state[] = {1, 2, 'a', 'b', 4, 8};
  bool matches = false;
  ScannerState *scanner = language.external_scanner.create();
  grammar_deserialize(scanner, state, sizeof state);
  if (scanner->inside_f_string && scanner->delimiters.size == 2 && scanner->indents.size == 3 &&
      memcmp(scanner->delimiters.contents, "ab", 2) == 0 && scanner->indents.contents[0] == 0 &&
      scanner->indents.contents[1] == 4 && scanner->indents.contents[2] == 8) {
    grammar_deserialize(scanner, NULL, 0);
    restore_in_place(scanner, state, sizeof state);
    char serialized[TREE_SITTER_SERIALIZATION_BUFFER_SIZE];
    unsigned length = language.external_scanner.serialize(scanner, serialized);
    matches = length == sizeof state && memcmp(serialized, state, sizeof state) == 0;
  }
  language.external_scanner.destroy(scanner);
  return matches;
}

static void make_language(void) {
  language = *tree_sitter_python();
  grammar_deserialize = language.external_scanner.deserialize;
  language.external_scanner.deserialize = deserialize;
  reuses_memory = layout_matches();
}

const TSLanguage *awaitify_python_language(void) {
  pthread_once(&language_once, make_language);
  return &language;
}

bool awaitify_python_scanner_reuses_memory(void) {
  awaitify_python_language();
  return reuses_memory;
}
