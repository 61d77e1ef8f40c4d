#include "CLinux.h"
int capstan_dummy(void){return 0;}
