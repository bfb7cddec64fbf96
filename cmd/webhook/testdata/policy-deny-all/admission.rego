package ksguard.admission

deny contains "this policy directory denies everything"
