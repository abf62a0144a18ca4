/* The tree-sitter-python language as awaitify parses with it: the grammar's own tables and
 * scanner, with one fix to how its external scanner state is reset.
 *
 * tree-sitter restores the scanner, before it lexes, from the state stored in the last external
 * token (newline, indent, string delimiters) before that point, or calls deserialize(NULL, 0)
 * where there is none: at the start of every parse, and where a re-parse lexes again before
 * the file's first such token. tree-sitter-python 0.23.6's deserialize then resets its
 * indentation and string-delimiter stacks but not its inside-f-string flag, which keeps
 * whatever the previous scan left: the previous parse's, for a parser used twice. Left set,
 * the flag holds back DEDENT tokens until the next string literal, so the statements after a
 * block are parsed into it, with no syntax error to show it ("x = f'{y" then a file of two
 * functions parses the second into the first).
 *
 * The empty state, serialized, is two zero bytes (the flag and the number of delimiters);
 * deserializing those resets all three.
 */
#include <pthread.h>

#include "tree_sitter/parser.h"

const TSLanguage *tree_sitter_python(void);

static TSLanguage language;
static void (*grammar_deserialize)(void *, const char *, unsigned);
static pthread_once_t language_once = PTHREAD_ONCE_INIT;

static void deserialize(void *payload, const char *buffer, unsigned length) {
  static const char empty_state[2] = {0, 0};
  if (length == 0) {
    grammar_deserialize(payload, empty_state, sizeof empty_state);
  } else {
    grammar_deserialize(payload, buffer, length);
  }
}

static void make_language(void) {
  language = *tree_sitter_python();
  grammar_deserialize = language.external_scanner.deserialize;
  language.external_scanner.deserialize = deserialize;
}

const TSLanguage *awaitify_python_language(void) {
  pthread_once(&language_once, make_language);
  return &language;
}
