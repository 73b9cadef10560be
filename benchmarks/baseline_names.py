"""How well can any model tell a surname's language? A strong classical baseline on the RNN lesson's split.

Character 1-4-gram TF-IDF features and logistic regression (scikit-learn), on the same de-duplicated
(name, language) pairs and the same stratified 10% test split (random_state=42) as nbs/40_rnn.ipynb.
Its balanced accuracy is a yardstick for the lesson's RNN and GRU: the names of some languages
(Scottish vs English, for one) are not separable by spelling alone.

Run: LEARNKIT_DATA=... python benchmarks/baseline_names.py   (about a minute on 2 cores)
"""
import time
from sklearn.model_selection import train_test_split
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, balanced_accuracy_score
from learnkit.data import names_by_language, LANGUAGES
from learnkit.rnn import normalize_name

raw = names_by_language()
pairs = sorted({(normalize_name(n), lang) for lang, v in raw.items() for n in v if '/' not in n})  # as the lesson builds them
X, y = [n for n, _ in pairs], [LANGUAGES.index(lang) for _, lang in pairs]
Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.1, stratify=y, random_state=42)
print(f"{len(pairs)} distinct (name, language) pairs; {len(Xtr)} train, {len(Xte)} test")
for cw in (None, 'balanced'):
    t = time.time()
    vec = TfidfVectorizer(analyzer='char_wb', ngram_range=(1, 4))
    clf = LogisticRegression(C=10, max_iter=2000, class_weight=cw).fit(vec.fit_transform(Xtr), ytr)
    p = clf.predict(vec.transform(Xte))
    print(f"class_weight={cw!s:<8}  accuracy {accuracy_score(yte, p):.3f}  balanced accuracy {balanced_accuracy_score(yte, p):.3f}  ({time.time() - t:.0f} s)")
