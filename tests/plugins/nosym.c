/* nosym.c - a shared object without the entry symbol: not a plugin. */
int sysg_not_a_plugin(void);

int sysg_not_a_plugin(void)
{
	return 42;
}
