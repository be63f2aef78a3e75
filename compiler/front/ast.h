/*
 * ast.h: the parse tree of a model file, as the parser builds it.
 *
 * The grammar accepts statements broadly: a keyword, positional arguments,
 * then key=value options. Whether a keyword, argument or option means
 * anything is decided later by the check pass (check.c), which turns the
 * AST into a checked model (model.h). Every node carries the location of
 * its first character so diagnostics can point at it.
 *
 * All nodes live in the compilation's arena (arena.h) and are never freed
 * one by one.
 */
#ifndef SEQC_AST_H
#define SEQC_AST_H

#include <stdint.h>
#include <stddef.h>

typedef struct src_loc {
    int line; /* 1-based */
    int col;  /* 1-based, in bytes */
} src_loc;

typedef enum ast_value_kind {
    AST_INT,    /* 128 */
    AST_FLOAT,  /* 0.001, 1e-7, 1/255 */
    AST_IDENT,  /* adam, true, glorot_uniform */
    AST_SHAPE,  /* 28x28 (a single number is an AST_INT) */
    AST_BAD     /* a malformed token the lexer reported (e.g. "28x") */
} ast_value_kind;

#define AST_MAX_DIMS 4

typedef struct ast_value {
    ast_value_kind kind;
    src_loc        loc;
    const char    *text;    /* the token as written, NUL-terminated */
    int            len;     /* its length in bytes */
    int            overflow;/* AST_INT / AST_SHAPE: a number did not fit */
    int64_t        i;       /* AST_INT */
    double         f;       /* AST_FLOAT (AST_INT also sets f) */
    int            ndims;   /* AST_SHAPE */
    int64_t        dims[AST_MAX_DIMS];
} ast_value;

typedef struct ast_option {
    const char *key;
    src_loc     key_loc;
    ast_value   value;
} ast_option;

typedef struct ast_stmt {
    const char *keyword;
    src_loc     loc;      /* of the keyword */
    int         nargs;
    ast_value  *args;
    int         nopts;
    ast_option *opts;
    struct ast_stmt *next;
} ast_stmt;

typedef enum ast_block_kind { AST_BLOCK_MODEL, AST_BLOCK_TRAIN, AST_BLOCK_OTHER } ast_block_kind;

typedef struct ast_block {
    ast_block_kind kind;
    const char    *keyword;  /* "model", "train", or what was written */
    src_loc        loc;
    const char    *name;     /* model NAME; NULL for train */
    src_loc        name_loc;
    ast_stmt      *first, *last; /* statements in order */
    size_t         count;
    ast_stmt      *head;     /* the header as written: keyword, arguments, options */
    src_loc        end_loc;  /* of the closing '}' */
    struct ast_block *next;
} ast_block;

typedef struct ast_file {
    const char *path;
    ast_block  *first, *last; /* blocks in order */
    /* statements written outside any block (an error the check pass reports) */
    ast_stmt   *loose_first, *loose_last;
} ast_file;

#endif /* SEQC_AST_H */
