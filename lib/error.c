/* Error reporting for the mapscan library; see error.h. */
#include <stdarg.h>
#include <stdio.h>

#include "error.h"

int ms_err(struct ms_error *err, int code, const char *fmt, ...)
{
	if (err) {
		va_list ap;

		err->code = code;
		va_start(ap, fmt);
		if (vsnprintf(err->msg, sizeof err->msg, fmt, ap) < 0)
			err->msg[0] = '\0';
		va_end(ap);
		/* Messages are one line even when a path (perhaps read
		 * from a corrupt core) holds control characters. */
		for (char *p = err->msg; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
	}
	return -1;
}

const char *ms_code_name(int code)
{
	switch (code) {
	case MS_OK:        return "ok";
	case MS_EINTERNAL: return "internal";
	case MS_EUSAGE:    return "usage";
	case MS_EOPEN:     return "open";
	case MS_EFORMAT:   return "format";
	case MS_ENOTGO:    return "not-go";
	case MS_ENODWARF:  return "no-dwarf";
	case MS_EMISMATCH: return "mismatch";
	case MS_EPROCESS:  return "process";
	case MS_EPERM:     return "permission";
	case MS_EGATE:     return "fail-over";
	case MS_EEMPTY:    return "empty-core";
	case MS_EPARTIAL:  return "partial";
	}
	return "internal";
}
