"""How well can any model tell a surname's language? A classical baseline on the RNN lesson's split.

Character 1-4-gram TF-IDF features and a linear SVM (scikit-learn's `LinearSVC`), on the same de-duplicated
(name, language) pairs and the same stratified 10% test split (random_state=42) as nbs/40_rnn.ipynb, which
computes the same baseline in its Results section (the figures quoted in the lesson are that cell's stored
output, not this script's). Its balanced accuracy is a yardstick for the lesson's RNN and GRU: the names of some
languages (Scottish vs English, for one) are not separable by spelling alone.

`--lr` adds multinomial logistic regression (C=10) on the same features: a slower fit (minutes on 2 busy
cores) that lands within a point or two of the SVM.

Run: LEARNKIT_DATA=... python benchmarks/baseline_names.py [--lr]   (a few seconds without --lr)
"""
import sys, time
from sklearn.model_selection import train_test_split
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC
from sklearn.metrics import accuracy_score, balanced_accuracy_score
from learnkit.data import names_by_language, LANGUAGES
from learnkit.rnn import normalize_name

raw = names_by_language()
pairs = sorted({(normalize_name(n), lang) for lang, v in raw.items() for n in v if '/' not in n})  # as the lesson builds them
X, y = [n for n, _ in pairs], [LANGUAGES.index(lang) for _, lang in pairs]
Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.1, stratify=y, random_state=42)
print(f"{len(pairs)} distinct (name, language) pairs; {len(Xtr)} train, {len(Xte)} test")
vec = TfidfVectorizer(analyzer='char_wb', ngram_range=(1, 4)).fit(Xtr)
A, B = vec.transform(Xtr), vec.transform(Xte)
models = {'LinearSVC': lambda cw: LinearSVC(class_weight=cw, random_state=0)}
if '--lr' in sys.argv: models['LogisticRegression C=10'] = lambda cw: LogisticRegression(C=10, max_iter=2000, class_weight=cw)
for name, make in models.items():
    for cw in (None, 'balanced'):
        t = time.time()
        p = make(cw).fit(A, ytr).predict(B)
        print(f"{name:<24} class_weight={cw!s:<8}  accuracy {accuracy_score(yte, p):.3f}  "
              f"balanced accuracy {balanced_accuracy_score(yte, p):.3f}  ({time.time() - t:.1f} s)")
