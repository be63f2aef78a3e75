/* cli.c: helpers every seqc command shares: usage errors, --without KIND. */
#include "cli/commands.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/suggest.h"

int cli_usage_error(const char *cmd, const char *usage, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, cmd ? "seqc %s: " : "seqc: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    if (usage)
        fprintf(stderr, "usage: seqc %s\n", usage);
    fputs("try 'seqc --help'\n", stderr);
    return 2;
}

#ifndef SEQC_VERSION
#error "SEQC_VERSION is set by compiler/CMakeLists.txt"
#endif

const char *cli_version(void) { return SEQC_VERSION; }

int cli_is_help(const char *arg)
{
    return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

int cli_layer_kind(const char *cmd, const char *usage, const char *arg, layer_kind *out)
{
    return cli_layer_kind_for(cmd, usage, "--without", arg, out);
}

int cli_layer_kind_for(const char *cmd, const char *usage, const char *flag, const char *arg,
                       layer_kind *out)
{
    int k = layer_kind_from_name(arg);
    if (k == LAYER_INPUT)
        return cli_usage_error(cmd, usage, "%s input: the input cannot be %s", flag,
                               strcmp(flag, "--without") == 0 ? "dropped" : "replaced");
    if (k < 0) {
        const char *names[LAYER_KIND_COUNT];
        for (int i = 0; i < LAYER_KIND_COUNT; i++)
            names[i] = layer_kind_name((layer_kind)i);
        const char *s = suggest(arg, names, LAYER_KIND_COUNT);
        if (s)
            return cli_usage_error(cmd, usage, "unknown layer kind '%s' for %s; did you mean '%s'?",
                                   arg, flag, s);
        return cli_usage_error(cmd, usage, "unknown layer kind '%s' for %s", arg, flag);
    }
    *out = (layer_kind)k;
    return 0;
}

int cli_take_without(const char *cmd, const char *usage, int argc, char **argv, int *i,
                     layer_kind *kinds, int *nkinds)
{
    const char *arg = argv[*i];
    const char *kind;
    if (strcmp(arg, "--without") == 0) {
        if (*i + 1 >= argc)
            return cli_usage_error(cmd, usage, "--without needs a layer kind, e.g. --without batchnorm");
        kind = argv[*i + 1];
        *i += 2;
    } else if (strncmp(arg, "--without=", 10) == 0) {
        kind = arg + 10;
        *i += 1;
    } else {
        return 0;
    }
    layer_kind k;
    if (cli_layer_kind(cmd, usage, kind, &k))
        return 2;
    for (int j = 0; j < *nkinds; j++)
        if (kinds[j] == k)
            return 1;
    if (*nkinds < LAYER_KIND_COUNT)
        kinds[(*nkinds)++] = k;
    return 1;
}

int cli_take_value(const char *cmd, const char *usage, int argc, char **argv, int *i,
                   const char *const *names, int nnames, const char **val)
{
    const char *arg = argv[*i];
    for (int k = 0; k < nnames; k++) {
        size_t n = strlen(names[k]);
        if (strcmp(arg, names[k]) == 0) {
            if (*i + 1 >= argc) {
                cli_usage_error(cmd, usage, "%s needs a value", arg);
                return -2;
            }
            *val = argv[*i + 1];
            *i += 2;
            return k;
        }
        if (names[k][1] == '-' && strncmp(arg, names[k], n) == 0 && arg[n] == '=') {
            *val = arg + n + 1;
            *i += 1;
            return k;
        }
    }
    return -1;
}
