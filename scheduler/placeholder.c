/* placeholder, replaced by the module's implementation */
int corral_sched__placeholder(void);
int corral_sched__placeholder(void) { return 0; }
