// The target's code is the inline function of include/cprefetch.h; SwiftPM needs one source file.
#include "cprefetch.h"
