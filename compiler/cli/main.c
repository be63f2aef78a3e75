/*
 * main.c: the seqc command line. A table of subcommands; each lives in its
 * own file and is declared in commands.h. Exit status: 0 ok, 1 errors in
 * the input, 2 a bad command line.
 */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "front/names.h"
#include "util/suggest.h"

#ifndef SEQC_DOC_DIR /* set by compiler/CMakeLists.txt: where docs/ is installed */
#define SEQC_DOC_DIR "docs"
#endif

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *usage; /* after "seqc " */
    const char *help;  /* one line for seqc --help */
} command;

static const command commands[] = {
    {"check", cmd_check, SEQC_USAGE_CHECK, "parse and check model files (silent when fine)"},
    {"summary", cmd_summary, SEQC_USAGE_SUMMARY,
     "print the layers, output shapes and parameter counts"},
#ifdef SEQC_HAVE_BACKEND
    {"ir", cmd_ir, SEQC_USAGE_IR, "print the IR after the passes"},
    {"emit", cmd_emit, SEQC_USAGE_EMIT,
     "write the training program as C"},
    {"build", cmd_build, SEQC_USAGE_BUILD,
     "write the C and compile it against libseqrt"},
    {"export", cmd_export, SEQC_USAGE_EXPORT,
     "write a trained model as dependency-free C or as ONNX"},
#endif
#ifdef SEQC_HAVE_COMPARE
    {"compare", cmd_compare, SEQC_USAGE_COMPARE,
     "train variants over several seeds, compare them with paired statistics"},
#endif
};
enum { NCOMMANDS = sizeof commands / sizeof *commands };

/* "KIND is a layer kind: ..." from the layer table (front/names.h), every
 * kind but the input, which --without cannot drop; wrapped at 72 columns */
static void print_kinds(void)
{
    int col = printf("KIND is a layer kind:");
    for (int k = LAYER_INPUT + 1; k < LAYER_KIND_COUNT; k++) {
        const char *sep = k == LAYER_KIND_COUNT - 1 ? " or " : k == LAYER_INPUT + 1 ? " " : ", ";
        const char *end = k == LAYER_KIND_COUNT - 1 ? "." : "";
        int w = (int)(strlen(sep) + strlen(layer_kind_name((layer_kind)k)) + strlen(end));
        if (col + w > 72) {
            /* the separator's comma stays on this line, its space goes */
            if (sep[0] == ',') {
                fputs(",", stdout);
                sep = "";
            } else {
                sep = sep + 1;
            }
            fputs("\n", stdout);
            col = 0;
            w = (int)(strlen(sep) + strlen(layer_kind_name((layer_kind)k)) + strlen(end));
        }
        col += printf("%s%s%s", sep, layer_kind_name((layer_kind)k), end);
    }
    fputs("\n", stdout);
}

static void print_help(void)
{
    printf("seqc %s: compiles Sequential neural network models to C trainers\n\n", cli_version());
    puts("usage: seqc COMMAND [ARGS...]\n");
    puts("commands:");
    for (int i = 0; i < NCOMMANDS; i++)
        printf("  %-10s %s\n", commands[i].name, commands[i].help);
    puts("\nusage of each command:");
    for (int i = 0; i < NCOMMANDS; i++)
        printf("  seqc %s\n", commands[i].usage);
    puts("\noptions:\n"
         "  -h, --help     show this help (seqc COMMAND --help for one command)\n"
         "  --version      show the version\n");
    print_kinds();
    puts("exit status: 0 ok, 1 errors in the model file, 2 a bad command line.\n"
         "The language is described in " SEQC_DOC_DIR "/language.md.");
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error(NULL, "COMMAND [ARGS...]", "no command given");
    const char *name = argv[1];
    if (cli_is_help(name) || strcmp(name, "help") == 0) {
        print_help();
        return 0;
    }
    if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0) {
        printf("seqc %s\n", cli_version());
        return 0;
    }
    const char *names[NCOMMANDS];
    for (int i = 0; i < NCOMMANDS; i++) {
        if (strcmp(name, commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
        names[i] = commands[i].name;
    }
    if (name[0] == '-')
        return cli_usage_error(NULL, "COMMAND [ARGS...]", "unknown option '%s'", name);
    const char *s = suggest(name, names, NCOMMANDS);
    if (s)
        return cli_usage_error(NULL, "COMMAND [ARGS...]", "unknown command '%s'; did you mean '%s'?",
                               name, s);
    return cli_usage_error(NULL, "COMMAND [ARGS...]", "unknown command '%s'", name);
}
