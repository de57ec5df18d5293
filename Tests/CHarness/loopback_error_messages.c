/* Error messages of the loopback driver that quote the request, under AddressSanitizer: each
 * used to be formatted from a string borrowed from a JSON object already released (an unknown
 * config key in open_set, an unknown type in quota_group). Built with the driver's sources and
 * -fsanitize=address by Tests/DriverConformanceTests (LoopbackFaultTests); a use after free
 * ends the process with ASan's report.
 *
 *     loopback_error_messages DRIVER.so STATE_DIR */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>

#include "cloud_dispatch_driver.h"

int main(int argc, char **argv) {
    if (argc != 3) return 2;
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) { fprintf(stderr, "dlopen: %s\n", dlerror()); return 1; }
    cdd_status (*negotiate)(uint32_t, uint32_t *) = (cdd_status (*)(uint32_t, uint32_t *))dlsym(lib, "cdd_negotiate");
    cdd_status (*open)(uint32_t, const cdd_host *, cdd_driver *, cdd_error *) =
        (cdd_status (*)(uint32_t, const cdd_host *, cdd_driver *, cdd_error *))dlsym(lib, "cdd_open");
    uint32_t agreed = 0;
    if (!negotiate || !open || negotiate(cdd_abi_version(), &agreed) != CDD_OK) return 1;
    static cdd_host host = {.struct_size = sizeof host};
    host.abi_version = agreed;
    cdd_driver driver = {.struct_size = sizeof driver, .abi_version = agreed};
    cdd_error err = {.struct_size = sizeof err};
    if (open(agreed, &host, &driver, &err) != CDD_OK) return 1;

    char config[1024];
    cdd_instance_set *set = NULL;
    snprintf(config, sizeof config, "{\"state_dir\": \"%s\", \"colour_of_the_instances\": 1}", argv[2]);
    cdd_status status = driver.open_set(driver.driver_ctx, "messages", config, &set, &err);
    printf("open_set %d %s\n", (int)status, err.message);

    snprintf(config, sizeof config, "{\"state_dir\": \"%s\"}", argv[2]);
    if (driver.open_set(driver.driver_ctx, "messages", config, &set, &err) != CDD_OK) return 1;
    char *out = NULL;
    status = driver.quota_group(set, "{\"provider_type\": \"no-such-type-anywhere\", \"preemptible\": false}", &out, &err);
    printf("quota_group %d %s\n", (int)status, err.message);
    driver.close_set(set);
    return 0;
}
