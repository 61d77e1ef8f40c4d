#pragma once
int capstan_dummy(void);
