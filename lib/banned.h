/*
 * banned.h: functions that are too easy to misuse.  Using one is a compile
 * error that names the reason (an idea from git's banned.h).
 */
#ifndef SL_BANNED_H
#define SL_BANNED_H

#define SL_BANNED(func) sorry_##func##_is_banned_in_salesline

#undef strcpy
#define strcpy(x, y) SL_BANNED(strcpy)
#undef strcat
#define strcat(x, y) SL_BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) SL_BANNED(strncpy)
#undef sprintf
#define sprintf(...) SL_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) SL_BANNED(vsprintf)
#undef strtok
#define strtok(x, y) SL_BANNED(strtok)
#undef gmtime
#define gmtime(t) SL_BANNED(gmtime)
#undef localtime
#define localtime(t) SL_BANNED(localtime)
#undef mktemp
#define mktemp(t) SL_BANNED(mktemp)
#undef gets
#define gets(s) SL_BANNED(gets)

#endif
