/* Hashing through xxHash (Debian libxxhash): category dictionaries, data
 * checksums and the model file checksum all use XXH3-64. */
#include "vigil/core.h"

#include <xxhash.h>

uint64_t vg_hash(const void *data, size_t len, uint64_t seed)
{
    return XXH3_64bits_withSeed(data, len, seed);
}
