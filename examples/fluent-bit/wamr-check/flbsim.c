/* flbsim MODULE FUNCTION STACK_SIZE RECORDS.ndjson
 *
 * Calls FUNCTION once per line of RECORDS as Fluent Bit's filter_wasm does
 * (src/wasm/flb_wasm.c, flb_wasm_call_function_format_json): one instance
 * with an 8 KiB heap and STACK_SIZE bytes of interpreter stack; tag and
 * record copied in NUL-terminated with wasm_runtime_module_dup_data (the
 * module's malloc when it exports one); the reply checked as a string in
 * the module's memory and copied; tag and record freed. Prints one line per
 * record and a closing count. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "wasm_export.h"

static char *read_file(const char *path, uint32_t *size)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc(n);
    if (buf && fread(buf, 1, n, f) != (size_t) n) { free(buf); buf = NULL; }
    fclose(f);
    *size = (uint32_t) n;
    return buf;
}

int main(int argc, char **argv)
{
    static char line[1 << 22];
    char err[128];
    uint32_t size, stack;
    int n = 0, kept = 0;
    char *bytes;
    FILE *in;
    wasm_module_t module;
    wasm_module_inst_t inst;
    wasm_exec_env_t env;
    wasm_function_inst_t func;

    if (argc != 5) {
        fprintf(stderr, "usage: flbsim MODULE FUNCTION STACK_SIZE RECORDS\n");
        return 2;
    }
    stack = (uint32_t) atoi(argv[3]);
    if (!wasm_runtime_init() || !(bytes = read_file(argv[1], &size))) return 1;
    module = wasm_runtime_load((uint8_t *) bytes, size, err, sizeof err);
    if (!module) { printf("load: %s\n", err); return 1; }
    inst = wasm_runtime_instantiate(module, stack, 8192, err, sizeof err);
    if (!inst) { printf("instantiate: %s\n", err); return 1; }
    env = wasm_runtime_create_exec_env(inst, stack);
    func = wasm_runtime_lookup_function(inst, argv[2], NULL);
    if (!env || !func || !(in = fopen(argv[4], "r"))) return 1;

    while (fgets(line, sizeof line, in)) {
        const char *tag = "defend";
        size_t len = strlen(line);
        uint32_t args[6], tag_buf, record_buf;
        if (len && line[len - 1] == '\n') line[--len] = 0;
        tag_buf = wasm_runtime_module_dup_data(inst, tag, strlen(tag) + 1);
        record_buf = wasm_runtime_module_dup_data(inst, line, len + 1);
        args[0] = tag_buf;
        args[1] = strlen(tag);
        args[2] = 1800000000 + n;
        args[3] = 0;
        args[4] = record_buf;
        args[5] = len;
        n++;
        if (!wasm_runtime_call_wasm(env, func, 6, args)) {
            printf("record %d: exception: %s\n", n, wasm_runtime_get_exception(inst));
            wasm_runtime_clear_exception(inst);
        }
        else if (!wasm_runtime_validate_app_str_addr(inst, args[0])) {
            printf("record %d: the reply is not a string in memory\n", n);
        }
        else {
            char *copy = strdup(wasm_runtime_addr_app_to_native(inst, args[0]));
            printf("record %d: %zu bytes: %.100s\n", n, strlen(copy), copy);
            free(copy);
            kept++;
        }
        if (tag_buf) wasm_runtime_module_free(inst, tag_buf);
        if (record_buf) wasm_runtime_module_free(inst, record_buf);
    }
    printf("%d records, %d replies\n", n, kept);
    return 0;
}
