/*
 * cmd_check.c: `seqc check FILE...` and `seqc summary FILE [--without KIND]...`.
 */
#include <stdio.h>
#include <string.h>

#include "util/arena.h"
#include "cli/commands.h"
#include "front/frontend.h"
#include "front/summary.h"

#define CHECK_USAGE SEQC_USAGE_CHECK
#define SUMMARY_USAGE SEQC_USAGE_SUMMARY

/* seqc check FILE...: nothing printed and exit 0 when every file is fine */
int cmd_check(int argc, char **argv)
{
    int nfiles = 0;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            printf("usage: seqc %s\nParses and checks model files; prints nothing when they "
                   "are fine.\n", CHECK_USAGE);
            return 0;
        }
        if (argv[i][0] == '-' && argv[i][1] != '\0')
            return cli_usage_error("check", CHECK_USAGE, "unknown option '%s'", argv[i]);
        nfiles++;
    }
    if (nfiles == 0)
        return cli_usage_error("check", CHECK_USAGE, "no model file given");
    int status = 0;
    for (int i = 1; i < argc; i++) {
        arena a;
        arena_init(&a);
        model m;
        if (frontend_load(&a, argv[i], &m) != 0)
            status = 1;
        arena_free(&a);
    }
    return status;
}

/* seqc summary FILE [--without KIND]... */
int cmd_summary(int argc, char **argv)
{
    const char *path = NULL;
    layer_kind without[LAYER_KIND_COUNT];
    int nwithout = 0;
    for (int i = 1; i < argc;) {
        if (cli_is_help(argv[i])) {
            printf("usage: seqc %s\nPrints each layer with its output shape and parameter "
                   "count, then the total,\ntrainable and non-trainable parameters. "
                   "--without KIND drops every layer of\nthat kind (e.g. batchnorm) first.\n",
                   SUMMARY_USAGE);
            return 0;
        }
        int rc = cli_take_without("summary", SUMMARY_USAGE, argc, argv, &i, without, &nwithout);
        if (rc == 2)
            return 2;
        if (rc == 1)
            continue;
        if (argv[i][0] == '-' && argv[i][1] != '\0')
            return cli_usage_error("summary", SUMMARY_USAGE, "unknown option '%s'", argv[i]);
        if (path)
            return cli_usage_error("summary", SUMMARY_USAGE, "more than one model file ('%s', '%s')",
                                   path, argv[i]);
        path = argv[i++];
    }
    if (!path)
        return cli_usage_error("summary", SUMMARY_USAGE, "no model file given");
    arena a;
    arena_init(&a);
    model m;
    /* to describe: a model too large to train is still counted (a warning) */
    const frontend_opts o = {MODEL_TO_DESCRIBE, without, nwithout};
    int status = frontend_load_with(&a, path, &o, &m);
    if (status == 0)
        summary_print(stdout, &m);
    arena_free(&a);
    return status;
}
