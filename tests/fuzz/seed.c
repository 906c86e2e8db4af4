/* The source of the committed DWARF seed (corpus/dwarf/c-program): a small
 * C program whose DWARF 5 has what Go's has -- structs, pointers, arrays,
 * typedefs, package-level variables, functions with locals in registers and
 * on the stack, location lists, and range lists (a function split into a
 * hot and a cold part).  Built by `make fuzz-seeds`. */
#include <stdio.h>
#include <stdlib.h>

typedef unsigned long uintptr;

struct node {
	struct node *next;
	uintptr key;
	int vals[4];
};

struct node *root;
static struct node pool[8];

__attribute__((cold, noinline)) static void fail(const char *why)
{
	fprintf(stderr, "%s\n", why);
	exit(1);
}

static struct node *push(struct node *head, uintptr key)
{
	struct node *n = &pool[key % 8];
	if (key > 1000)
		fail("key out of range");
	n->next = head;
	n->key = key;
	for (int i = 0; i < 4; i++)
		n->vals[i] = (int)(key * i);
	return n;
}

int main(int argc, char **argv)
{
	(void)argv;
	for (uintptr i = 0; i < (uintptr)argc + 3; i++)
		root = push(root, i);
	if (!root)
		fail("empty");
	long sum = 0;
	for (struct node *n = root; n; n = n->next)
		sum += n->vals[1];
	printf("%ld\n", sum);
	return 0;
}
