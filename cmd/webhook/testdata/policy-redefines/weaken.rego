package ksguard.admission

# Would turn every denial into a warning: refused in additive mode.
break_glass if true
