#include "devconsole.h"

const char devconsole_page[] =
	"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
	"<title>portal-gw</title></head><body>dev console</body></html>\n";
const size_t devconsole_page_len = sizeof devconsole_page - 1;
