/* The reference the benchmark compares awaitify with: read every file named in a list (one path
 * a line) and parse it with tree-sitter and the same Python grammar, nothing else. With --check
 * it also reports the files whose tree holds an ERROR or MISSING node (exit 1 if any).
 *
 *   raw_parse [--jobs N] [--check] LIST
 *
 * Built by bench/run.py (and bench/corpus_check.py) against libtree-sitter and the
 * grammar archive of an awaitify build (libtree_sitter_python.a), with the language awaitify
 * parses with (the grammar's, its scanner's state reset fixed: src/grammar/python_language.c).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tree_sitter/api.h>
#include <unistd.h>

const TSLanguage *awaitify_python_language(void);

static char **paths;
static size_t path_count;
static atomic_size_t next_path;
static atomic_size_t bad_files;
static atomic_ullong total_bytes;
static int check;

static char *read_all(const char *path, size_t *size) {
  FILE *in = fopen(path, "rb");
  if (!in) return NULL;
  size_t capacity = 1 << 16, used = 0;
  char *data = malloc(capacity);
  size_t n;
  while ((n = fread(data + used, 1, capacity - used, in)) > 0) {
    used += n;
    if (used == capacity) data = realloc(data, capacity *= 2);
  }
  fclose(in);
  *size = used;
  return data;
}

static void *worker(void *unused) {
  (void)unused;
  TSParser *parser = ts_parser_new();
  ts_parser_set_language(parser, awaitify_python_language());
  for (size_t i = atomic_fetch_add(&next_path, 1); i < path_count; i = atomic_fetch_add(&next_path, 1)) {
    size_t size = 0;
    char *text = read_all(paths[i], &size);
    if (!text) {
      fprintf(stderr, "raw_parse: %s: cannot be read\n", paths[i]);
      atomic_fetch_add(&bad_files, 1);
      continue;
    }
    TSTree *tree = ts_parser_parse_string(parser, NULL, text, (uint32_t)size);
    atomic_fetch_add(&total_bytes, size);
    if (!tree) {
      fprintf(stderr, "raw_parse: %s: the parser gave up\n", paths[i]);
      atomic_fetch_add(&bad_files, 1);
    } else {
      if (check && ts_node_has_error(ts_tree_root_node(tree))) {
        fprintf(stderr, "raw_parse: %s: syntax error\n", paths[i]);
        atomic_fetch_add(&bad_files, 1);
      }
      ts_tree_delete(tree);
    }
    free(text);
  }
  ts_parser_delete(parser);
  return NULL;
}

static void read_list(const char *list) {
  FILE *in = strcmp(list, "-") == 0 ? stdin : fopen(list, "r");
  if (!in) {
    fprintf(stderr, "raw_parse: %s: cannot be read\n", list);
    exit(2);
  }
  size_t capacity = 1024;
  paths = malloc(capacity * sizeof *paths);
  char *line = NULL;
  size_t line_size = 0;
  ssize_t length;
  while ((length = getline(&line, &line_size, in)) > 0) {
    if (line[length - 1] == '\n') line[--length] = '\0';
    if (length == 0) continue;
    if (path_count == capacity) paths = realloc(paths, (capacity *= 2) * sizeof *paths);
    paths[path_count++] = strdup(line);
  }
  free(line);
  if (in != stdin) fclose(in);
}

int main(int argc, char **argv) {
  long jobs = sysconf(_SC_NPROCESSORS_ONLN);
  const char *list = NULL;
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--jobs") == 0 && i + 1 < argc) jobs = atol(argv[++i]);
    else if (strcmp(argv[i], "--check") == 0) check = 1;
    else list = argv[i];
  }
  if (!list || jobs < 1) {
    fprintf(stderr, "usage: raw_parse [--jobs N] [--check] LIST\n");
    return 2;
  }
  read_list(list);
  pthread_t *threads = malloc((size_t)jobs * sizeof *threads);
  for (long i = 0; i < jobs; ++i) pthread_create(&threads[i], NULL, worker, NULL);
  for (long i = 0; i < jobs; ++i) pthread_join(threads[i], NULL);
  fprintf(stderr, "raw_parse: %zu files, %llu bytes, %zu %s\n", path_count,
          (unsigned long long)total_bytes, (size_t)bad_files, check ? "with syntax errors or unreadable" : "unreadable");
  return bad_files ? 1 : 0;
}
