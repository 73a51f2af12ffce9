/* The floor under every command's wall time and peak RSS: what a process pays for
 * being linked with the project's libraries before it does any work of its own.
 * Built by bench_rds.sh with the commands' own link line, in two variants:
 *
 *   -DFLOOR_INIT=0  main() returns at once: the dynamic loader mapped and
 *                   relocated Debian's libcurl, libxml2 and their ~40 dependencies
 *                   (GnuTLS, Kerberos, LDAP, ICU, libstdc++ ...) and ran their
 *                   constructors.
 *   -DFLOOR_INIT=1  also curl_global_init(), which every libcurl program must run
 *                   (curl_easy_init() runs it otherwise) and which initialises
 *                   OpenSSL 3. */
#include <curl/curl.h>

int main(void)
{
#if FLOOR_INIT
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    curl_global_cleanup();
#endif
    return 0;
}
