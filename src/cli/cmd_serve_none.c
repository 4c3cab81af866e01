/* vigil serve in a vigil built without the HTTP server (VG_WITH_SERVER=OFF). */
#include "cli.h"

int cmd_serve(int argc, char **argv)
{
    (void)argc, (void)argv;
    fprintf(stderr, "vigil serve: this vigil was built without the HTTP server "
                    "(cmake -DVG_WITH_SERVER=ON, which needs libmicrohttpd)\n");
    return VG_EXIT_ERROR;
}
