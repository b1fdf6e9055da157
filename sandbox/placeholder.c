/* placeholder, replaced by the module's implementation */
int corral_sandbox__placeholder(void);
int corral_sandbox__placeholder(void) {
  return 0;
}
